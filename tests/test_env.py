"""Numbers from environment variables: one rule (hpi.env.env_number), an error naming the variable."""

from __future__ import annotations

import pytest

from hpi.errors import ConfigError


@pytest.mark.parametrize("variable,read", [
    ("HPI_NUM_THREADS", lambda: __import__("hpi.backends.base", fromlist=["x"]).default_threads()),
    ("HPI_MEASURE_BUDGET_S", lambda: __import__("hpi.backends.select.measure", fromlist=["x"]).measure_budget_s()),
    ("HPI_MODEL_TIMEOUT_S", lambda: __import__("hpi.models.download", fromlist=["x"]).limits()),
    ("HPI_MODEL_RETRIES", lambda: __import__("hpi.models.download", fromlist=["x"]).limits()),
])
@pytest.mark.parametrize("value", ["many", "nan", "-1", "inf"])
def test_bad_values_name_the_variable(monkeypatch, variable, read, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"Environment variable {variable} must be"):
        read()


def test_good_values_and_zero_where_it_means_something(monkeypatch):
    from hpi.backends.base import default_threads
    from hpi.backends.select.measure import measure_budget_s
    from hpi.models.download import limits

    monkeypatch.setenv("HPI_NUM_THREADS", "3")
    monkeypatch.setenv("HPI_MEASURE_BUDGET_S", "0")  # no further timing round
    monkeypatch.setenv("HPI_MODEL_RETRIES", "0")  # no retry
    assert default_threads() == 3 and measure_budget_s() == 0.0 and limits()[2] == 0
    monkeypatch.setenv("HPI_NUM_THREADS", "0")
    with pytest.raises(ConfigError, match="HPI_NUM_THREADS"):
        default_threads()


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("yes", True), ("OFF", False),
                                             ("true", True), ("", True)])
def test_flags_take_one_set_of_words(monkeypatch, value, expected):
    from hpi.backends.select.policy import measuring_enabled

    monkeypatch.setenv("HPI_MEASURE_BACKENDS", value)
    assert measuring_enabled() is expected


@pytest.mark.parametrize("variable", ["HPI_MEASURE_BACKENDS", "HPI_PURE_PYTHON"])
def test_a_mistyped_flag_is_an_error_not_a_silent_choice(monkeypatch, variable):
    from hpi.env import env_flag

    monkeypatch.setenv(variable, "flase")
    with pytest.raises(ConfigError, match=f"Environment variable {variable} must be 1 or 0"):
        env_flag(variable, False)
    from hpi.backends.select.policy import measuring_enabled

    monkeypatch.setenv("HPI_MEASURE_BACKENDS", "flase")
    with pytest.raises(ConfigError, match="HPI_MEASURE_BACKENDS"):
        measuring_enabled()

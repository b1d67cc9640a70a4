"""PARLEY_METRICS_PORT and PARLEY_METRICS_HOST: off by default, on 127.0.0.1 when set, refused when wrong."""

import pytest

from infrastructure.settings import Settings, SettingsError, load_settings


def settings_from(**environ: str) -> Settings:
    return load_settings(env_file=None, environ=environ)


def test_metrics_are_off_by_default_and_local_when_on() -> None:
    assert settings_from().metrics_port is None
    assert settings_from(PARLEY_METRICS_PORT="").metrics_port is None  # an empty value is unset
    on = settings_from(PARLEY_METRICS_PORT="9464")
    assert (on.metrics_host, on.metrics_port) == ("127.0.0.1", 9464)
    assert settings_from(PARLEY_METRICS_PORT="9464", PARLEY_METRICS_HOST="0.0.0.0").metrics_host == "0.0.0.0"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"PARLEY_METRICS_PORT": "0"}, "PARLEY_METRICS_PORT"),
        ({"PARLEY_METRICS_PORT": "65536"}, "PARLEY_METRICS_PORT"),
        ({"PARLEY_METRICS_PORT": "-1"}, "PARLEY_METRICS_PORT"),
        ({"PARLEY_METRICS_PORT": "nine"}, "Bad setting"),
        ({"PARLEY_METRICS_PORT": "9464", "PARLEY_METRICS_HOST": ""}, "PARLEY_METRICS_HOST"),
        ({"PARLEY_METRICS_PORT": "9464", "PARLEY_METRICS_HOST": "127.0.0.1 x"}, "PARLEY_METRICS_HOST"),
    ],
)
def test_wrong_metrics_settings_are_refused_with_one_line(environ: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names) as refused:
        load_settings(env_file=None, environ=environ)
    assert "\n" not in str(refused.value)

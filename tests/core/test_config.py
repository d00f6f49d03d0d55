from __future__ import annotations

from pathlib import Path

import pytest

from ratatouille.config import Settings
from ratatouille.errors import ConfigError


def test_rat_home_wins(tmp_path: Path) -> None:
    s = Settings.from_env({"RAT_HOME": str(tmp_path / "lh")}, cwd=tmp_path)
    assert s.home == (tmp_path / "lh").resolve()
    assert s.catalog_uri == f"sqlite:///{s.home / 'catalog.db'}"
    assert s.warehouse == (s.home / "warehouse").as_uri()
    assert s.landing == str(s.home / "landing")
    assert s.engine == "chdb://memory"


def test_project_file_found_upward(tmp_path: Path) -> None:
    (tmp_path / "ratatouille.toml").write_text('home = "data"\nengine = "chdb://memory"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    s = Settings.from_env({}, cwd=deep)
    assert s.home == (tmp_path / "data").resolve()
    assert s.config_file == tmp_path / "ratatouille.toml"
    # every process started anywhere in the project resolves the same lakehouse
    assert Settings.from_env({}, cwd=tmp_path) == s


def test_project_file_without_home_uses_its_folder(tmp_path: Path) -> None:
    (tmp_path / "ratatouille.toml").write_text("[ratatouille]\ns3_region = 'eu-west-1'\n")
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.home == tmp_path.resolve()
    assert s.s3_region == "eu-west-1"


def test_env_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "ratatouille.toml").write_text('landing = "s3://from-file/x"\n')
    s = Settings.from_env({"RAT_LANDING": "s3://from-env/y"}, cwd=tmp_path)
    assert s.landing == "s3://from-env/y"


def test_per_user_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.home == tmp_path / "xdg" / "ratatouille"


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ratatouille.toml").write_text('hom = "typo"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        Settings.from_env({}, cwd=tmp_path)


def test_broken_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ratatouille.toml").write_text("home = [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env({}, cwd=tmp_path)


def test_rat_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAT_CONFIG"):
        Settings.from_env({"RAT_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


def test_secret_is_never_shown(tmp_path: Path) -> None:
    s = Settings.for_home(tmp_path, s3_secret_access_key="hunter2", s3_access_key_id="AK")
    assert "hunter2" not in repr(s)
    assert s.describe()["s3_secret_access_key"] == "********"


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = Settings.for_home(tmp_path)
    with pytest.raises(AttributeError):
        s.engine = "x"  # type: ignore[misc]
    assert s.with_(engine="chdb://memory").engine == "chdb://memory"


def test_no_settings_read_at_import() -> None:
    import subprocess
    import sys

    code = "import ratatouille, sys; print('ratatouille.session' in sys.modules, 'pyiceberg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_passwords_in_urls_are_masked_everywhere(tmp_path: Path) -> None:
    from ratatouille.cli import run
    from ratatouille.sdk import Rat
    from ratatouille.session import Lakehouse

    settings = Settings.for_home(
        tmp_path,
        catalog_uri=f"sqlite:///{tmp_path}/catalog.db",
        engine="http://bi:pw-engine@127.0.0.1:1/",
        s3_secret_access_key="pw-s3",
    )
    shown = repr(settings) + str(settings.describe())
    assert "pw-engine" not in shown and "pw-s3" not in shown and "bi:****@" in shown
    pg = Settings.for_home(tmp_path, catalog_uri="postgresql+psycopg2://rat:pw-catalog@db/cat")
    assert "pw-catalog" not in repr(pg) and "rat:****@db" in pg.describe()["catalog_uri"]
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["config"], Rat(Lakehouse(settings))) == 0
    assert "pw-engine" not in out.getvalue() and "pw-s3" not in out.getvalue()


def test_the_home_says_where_it_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rat config``'s first line: the lakehouse and why (RAT_HOME, a ratatouille.toml, or the default)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    project, deep = tmp_path / "project", tmp_path / "project" / "notebooks" / "sub"
    deep.mkdir(parents=True)
    bare = tmp_path / "elsewhere"
    bare.mkdir()
    assert "the default" in Settings.from_env({}, cwd=bare).explain_home()
    toml = project / "ratatouille.toml"
    toml.write_text('home = ".lakehouse"\npipelines_dir = "../notebooks/pipelines"\n')
    # found in the working folder and in every folder below it
    for cwd in (project, deep):
        s = Settings.from_env({}, cwd=cwd)
        assert s.home == (project / ".lakehouse").resolve()
        assert s.explain_home() == f"lakehouse {s.home} (from ratatouille.toml at {toml})"
    # an environment variable still wins over the file, and says so; the file's other keys still apply
    s = Settings.from_env({"RAT_HOME": str(tmp_path / "env")}, cwd=deep)
    assert s.home == (tmp_path / "env").resolve() and s.config_file == toml
    assert s.explain_home().endswith("(from the RAT_HOME environment variable)")
    assert s.pipelines_dir == "../notebooks/pipelines"
    s = Settings.from_env({"RAT_PIPELINES_DIR": "flows"}, cwd=deep)
    assert s.pipelines_dir == "flows"
    # RAT_CONFIG names another file, found from anywhere
    other = tmp_path / "other.toml"
    other.write_text('home = "lh2"\n')
    s = Settings.from_env({"RAT_CONFIG": str(other)}, cwd=deep)
    assert s.home == (tmp_path / "lh2").resolve()
    assert s.explain_home().endswith(f"(from ratatouille.toml at {other} (RAT_CONFIG))")
    # not a setting: not shown among them, not compared
    assert "home_source" not in s.describe()
    assert Settings.for_home(s.home).explain_home().endswith("(given by the program)")


def test_rat_config_prints_which_lakehouse_and_why(tmp_path: Path) -> None:
    import subprocess
    import sys

    import ratatouille

    (tmp_path / "ratatouille.toml").write_text('home = "lh"\n')
    (tmp_path / "sub").mkdir()
    source = str(Path(ratatouille.__file__).parent.parent)  # this checkout, whatever is installed
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": source}
    cmd = [sys.executable, "-m", "ratatouille.cli", "config"]
    out = subprocess.run(cmd, env=env, cwd=tmp_path / "sub", capture_output=True, text=True, check=True)
    root = tmp_path.resolve()
    first = out.stdout.splitlines()[0]
    assert first == f"lakehouse {root / 'lh'} (from ratatouille.toml at {root / 'ratatouille.toml'})"

"""Start-up with nowhere to write: a clear error at once, not a failure later in the middle of work."""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appeals import create_app

PROJECT = Path(__file__).resolve().parent.parent


def test_full_disk_is_a_clear_start_up_error(tmp_path, monkeypatch):
    import appeals

    real_write_text = Path.write_text

    def no_space(self, *args, **kwargs):
        if self.name.startswith(".write-test"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", no_space)
    monkeypatch.setattr(appeals.Config, "INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(RuntimeError, match="not writable: No space left on device"):
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions; the folder-in-the-way case covers it")
def test_read_only_instance_folder_is_a_clear_start_up_error(tmp_path, monkeypatch):
    import appeals

    folder = tmp_path / "instance"
    folder.mkdir()
    folder.chmod(0o500)
    monkeypatch.setattr(appeals.Config, "INSTANCE_PATH", str(folder))
    with pytest.raises(RuntimeError, match="not writable"):
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def _start(env_changes, tmp_path):
    env = {**os.environ, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env_changes}
    return subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "current"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)


def test_command_line_start_names_the_instance_folder_problem(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    result = _start({"QABYLDAU_INSTANCE": str(blocker / "instance")}, tmp_path)
    assert result.returncode != 0
    assert f"Instance folder {blocker / 'instance'} is not writable" in result.stderr


def test_a_real_full_disk_is_reported_at_start_up(tmp_path):
    """A 64 KiB tmpfs filled to the last byte (needs mount rights; skipped where there are none)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + mounted.stderr.decode().strip())
    try:
        instance = mount_point / "instance"
        instance.mkdir()
        (instance / "secret_key").write_text("x" * 10)  # an existing key is still readable on a full disk
        filler = mount_point / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        result = _start({"QABYLDAU_INSTANCE": str(instance)}, tmp_path)
        assert result.returncode != 0
        assert "is not writable: No space left on device" in result.stderr
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


def test_processes_starting_together_on_one_instance_folder_all_start(tmp_path, monkeypatch):
    """A web server and its workers start at once on one folder. Here a second start-up's folder check
    runs while the first one's probe is on disk, as when two processes interleave: both must pass (a
    shared probe name let the second delete the file the first was about to remove). The check is
    called directly: a whole second app would re-point the process's task queue."""
    from types import SimpleNamespace

    import appeals

    folder = SimpleNamespace(instance_path=str(tmp_path / "instance"))
    real_write_text = Path.write_text
    interleaved = []

    def write_then_let_another_start(self, *args, **kwargs):
        result = real_write_text(self, *args, **kwargs)
        if self.name.startswith(".write-test") and not interleaved:
            interleaved.append(self.name)
            appeals._ensure_instance_folder(folder)
        return result

    monkeypatch.setattr(Path, "write_text", write_then_let_another_start)
    appeals._ensure_instance_folder(folder)
    assert interleaved and not list((tmp_path / "instance").glob(".write-test*"))

"""Plays the CAPTCHA's WAV audio without QtMultimedia (PySide6-Essentials does not ship it).

The WAV goes to a private temporary file that a system player (PipeWire, PulseAudio or ALSA)
plays; the file is deleted when playback ends. With no player or no sound device, `play` says so
and the page shows a notice instead of failing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

log = logging.getLogger(__name__)

PLAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pw-play", ()),
    ("paplay", ()),
    ("aplay", ("-q",)),
)


def find_player() -> tuple[str, tuple[str, ...]] | None:
    """The first system WAV player on PATH with its arguments, or None."""
    for name, arguments in PLAYERS:
        path = shutil.which(name)
        if path:
            return path, arguments
    return None


class CaptchaAudioPlayer(QObject):
    """Plays one WAV at a time through a system player; `failed` fires when playback is impossible."""

    failed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._file: Path | None = None

    def play(self, wav: bytes) -> bool:
        """Start playing; False (and nothing started) when this machine has no player."""
        player = find_player()
        if player is None or not wav:
            return False
        self.stop()
        handle, name = tempfile.mkstemp(prefix="kiosk-captcha-", suffix=".wav")
        with os.fdopen(handle, "wb") as file:
            file.write(wav)
        self._file = Path(name)
        process = QProcess(self)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self._process = process
        program, arguments = player
        process.start(program, [*arguments, name])
        return True

    def stop(self) -> None:
        """Stop playback and delete the temporary file."""
        process, self._process = self._process, None
        if process is not None:
            process.blockSignals(True)
            process.kill()
            process.waitForFinished(500)
            process.deleteLater()
        self._remove_file()

    def _finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        if exit_code != 0:
            log.info("captcha audio player exited with %s (no sound device?)", exit_code)
            self.failed.emit()
        self.stop()

    def _error(self, error: QProcess.ProcessError) -> None:
        log.info("captcha audio player failed: %s", error.name)
        self.failed.emit()
        self.stop()

    def _remove_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.unlink()

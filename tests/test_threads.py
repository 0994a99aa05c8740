"""The one thread fan-out and compile lock (tawazun.engines.threads)."""

from __future__ import annotations

import threading
import time

import pytest

from tawazun.engines import threads as T


def test_results_come_back_in_job_order_on_any_thread_count():
    jobs = [lambda k=k: (time.sleep(0.002 * (5 - k)), k * k)[1] for k in range(6)]
    for n in (1, 2, 4):
        assert T.fan_out(jobs, n) == [0, 1, 4, 9, 16, 25]


def test_one_thread_without_poll_runs_here_and_poll_uses_workers():
    here = threading.get_ident()
    assert T.fan_out([threading.get_ident], 1) == [here]
    polls = []
    [ident] = T.fan_out([lambda: (time.sleep(0.05), threading.get_ident())[1]], 1,
                        poll=lambda: polls.append(1), interval=0.01)
    assert ident != here and polls


def test_an_interrupt_while_polling_asks_the_jobs_to_stop_and_propagates():
    stop = threading.Event()

    def job():
        stop.wait(5)
        return stop.is_set()

    def poll():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        T.fan_out([job, job], 2, poll=poll, on_abort=stop.set, interval=0.01)
    assert stop.is_set()


def test_a_job_error_reaches_the_caller():
    def bad():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        T.fan_out([bad, lambda: 1], 2)


def test_compile_once_runs_the_warm_up_once_per_name(tmp_path, monkeypatch):
    monkeypatch.setattr(T.tempfile, "gettempdir", lambda: str(tmp_path))
    calls = []
    T.compile_once("test-kernels", lambda: calls.append(1))
    T.compile_once("test-kernels", lambda: calls.append(1))
    assert calls == [1] and (tmp_path / "tawazun-test-kernels-numba.lock").exists()

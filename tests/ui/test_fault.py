"""ui.fault: an engine error inside a key is reported and the composition dropped."""

from __future__ import annotations

from ime.keys import KeyProcessor
from ui.fault import EngineFault, run_guarded


def boom():
    raise RuntimeError("injected")


def test_a_result_passes_through(tiny_engine) -> None:
    proc = KeyProcessor(tiny_engine.new_context())
    r = run_guarded(proc, lambda: proc.cancel())
    assert not isinstance(r, EngineFault) and not r.state.composing


def test_an_error_is_reported_and_the_composition_dropped(tiny_engine, capsys) -> None:
    proc = KeyProcessor(tiny_engine.new_context())
    proc.context.type("nihao")
    assert proc.composing
    r = run_guarded(proc, boom)
    assert isinstance(r, EngineFault) and r.reset and r.summary == "RuntimeError: injected"
    err = capsys.readouterr().err
    assert "engine error, composition reset: injected" in err and "Traceback" in err
    assert not proc.composing


def test_a_failing_cancel_says_the_processor_is_spent(capsys) -> None:
    class Broken:
        def cancel(self):
            raise RuntimeError("cancel too")

    r = run_guarded(Broken(), boom)  # type: ignore[arg-type]
    assert isinstance(r, EngineFault) and not r.reset
    assert "injected" in capsys.readouterr().err

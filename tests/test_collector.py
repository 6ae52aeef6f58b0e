import gc

import pytest

from tabgen import collector
from tabgen.tab.parse import parse_text


def test_paused_turns_the_collector_off_and_back_on() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_paused_restores_the_collector_when_the_block_raises() -> None:
    with pytest.raises(ValueError), collector.paused():
        raise ValueError("inside")
    assert gc.isenabled()


def test_reading_a_tab_leaves_the_collector_on() -> None:
    result = parse_text("e|--0--|\nB|--1--|\nG|--0--|\nD|--2--|\nA|--3--|\nE|-----|\n")
    assert len(result.tabs) == 1 and gc.isenabled()

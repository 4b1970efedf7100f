"""A switch row's templates as a dialect reads them, without a line: defaults, filling, states."""

from __future__ import annotations

import re

import pytest

from switch_adapters import session_class
from switch_adapters.port import COMMANDS, CommandTemplate, Garbled, SwitchDefinition
from switch_adapters.templates import SwitchRow, leave_out


@pytest.mark.parametrize(
    ("text", "name", "left"),
    [
        (
            "ED-SUB:{tid}:{mid}:{ctag}::ESN={esn},FEAT={features};",
            "features",
            "ED-SUB:{tid}:{mid}:{ctag}::ESN={esn};",
        ),
        (
            "ED-SUB:{tid}:{mid}:{ctag}::ESN={esn},FEAT={features};",
            "esn",
            "ED-SUB:{tid}:{mid}:{ctag}::FEAT={features};",
        ),
        (
            "HGSUC:MSISDN={mid},SUBID={esn},PROFILE={features};",
            "esn",
            "HGSUC:MSISDN={mid},PROFILE={features};",
        ),
        (
            "HGSUC:MSISDN={mid},SUBID={esn},PROFILE={features};",
            "features",
            "HGSUC:MSISDN={mid},SUBID={esn};",
        ),
        ("mid={mid} esn={esn} features=PLAN{features}", "features", "mid={mid} esn={esn}"),
        ("mid={mid} esn={esn} features={features}", "esn", "mid={mid} features={features}"),
        ("X:ESN={esn!s},A={esn:>11};", "esn", "X:;"),
        ("RMV-SUB:{tid}:{mid}:{ctag};", "esn", "RMV-SUB:{tid}:{mid}:{ctag};"),
    ],
)
def test_a_value_not_given_leaves_out_the_parameter_carrying_it(
    text: str, name: str, left: str
) -> None:
    assert leave_out(text, name) == left


class Row(SwitchRow):
    """A dialect's view of a row, without any line."""

    DIALECT = "test"
    DEFAULT_COMMANDS = {
        "modify": CommandTemplate("ED:{mid}::ESN={esn},FEAT={features};", "^OK"),
        "query": CommandTemplate("GET:{mid};", r"^(?P<mid>\d+):(?P<esn>\d+):(?P<state>IS|OOS)$"),
    }
    FORMER_COMMANDS = {"query": (CommandTemplate("GET:{mid};", r"^(?P<mid>\d+):(?P<esn>\d+)$"),)}
    STATES = {"IS": "active", "OOS": "suspended"}

    def __init__(self, commands: dict[str, CommandTemplate]) -> None:
        self.defn = SwitchDefinition("HOU1", "test", "HOU1", "loop://", commands=commands)
        self.switch = self.defn.name
        self._patterns = {}


def test_a_row_without_a_command_or_with_a_former_default_gets_todays_default() -> None:
    own = CommandTemplate("GET:{mid}:X;", r"^(?P<mid>\d+)")
    former = Row.FORMER_COMMANDS["query"][0]
    assert Row({}).template("modify") == Row.DEFAULT_COMMANDS["modify"]
    assert Row({"query": former}).template("query") == Row.DEFAULT_COMMANDS["query"]
    assert Row({"query": own}).template("query") == own  # a row's own template rules
    with pytest.raises(ValueError, match="no 'dump' command"):
        Row({}).template("dump")


def test_a_modify_sends_only_what_it_changes() -> None:
    row = Row({})
    assert (
        row.command_text("modify", mid="7135550001", esn="1", features=None)
        == "ED:7135550001::ESN=1;"
    )
    assert (
        row.command_text("modify", mid="7135550001", esn=None, features="")
        == "ED:7135550001::FEAT=;"
    )


def test_states_are_read_in_the_switchs_words_and_a_pattern_without_one_reads_active() -> None:
    row = Row({})
    pattern = row.expect("query")
    assert row.record_from(pattern.match("7135550001:13803186457:OOS")) == (
        "7135550001",
        "13803186457",
        "",
        "suspended",
    )
    assert row.record_from(re.match(r"(?P<mid>\d+):(?P<esn>\d+)", "1:2")) == (
        "1",
        "2",
        "",
        "active",
    )
    assert row.with_states([("1", "2", "3", "IS"), ("4", "5", "", "OOS")]) == [
        ("1", "2", "3", "active"),
        ("4", "5", "", "suspended"),
    ]
    with pytest.raises(Garbled, match="unknown line state"):
        row.record_from(re.match(r"(?P<mid>\d+):(?P<esn>\d+):(?P<state>\w+)", "1:2:UAS"))
    with pytest.raises(Garbled, match="unknown line state"):
        row.with_states([("1", "2", "3", "UAS")])


@pytest.mark.parametrize("dialect", ["tl1", "mml", "ber"])
def test_every_dialect_has_a_template_for_every_command_and_reads_its_former_rows(
    dialect: str,
) -> None:
    cls = session_class(dialect)
    assert set(COMMANDS) <= set(cls.DEFAULT_COMMANDS)
    assert set(cls.FORMER_COMMANDS) == {"query", "dump"}
    assert set(cls.STATES.values()) == {"active", "suspended"}

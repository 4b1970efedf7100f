"""The welcome letter as a one-page PDF: what was bought, what to check, who sold it."""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

INK = (33, 37, 41)
BRAND = (0, 94, 135)
SOFT = (232, 241, 246)
GREY = (108, 117, 125)


@dataclass(frozen=True)
class Feature:
    """A feature of a rate plan as a customer reads it."""

    code: str
    name: str
    description: str


@dataclass(frozen=True)
class Suggestion:
    """A feature the customer does not have yet, and the plan that brings it."""

    feature: Feature
    plan_name: str
    plan_code: str
    monthly: str


@dataclass(frozen=True)
class LetterContent:
    """Everything a welcome letter says, gathered from the database."""

    company: str
    date: str
    customer_name: str
    customer_address: str
    customer_kind: str  # individual / business
    tax_id_masked: str
    mid: str  # spoken form, e.g. (713) 555-0001
    esn: str
    plan_name: str
    plan_code: str
    monthly: str
    features: tuple[Feature, ...]
    suggestions: tuple[Suggestion, ...]
    deposit: str
    transaction_code: str
    activated_on: str
    agent_name: str
    agent_code: str
    service_phone: str


def _latin1(text: str) -> str:
    # The core PDF fonts carry Latin-1; anything else prints as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


class _Letter(FPDF):
    def __init__(self, content: LetterContent) -> None:
        super().__init__(format="Letter", unit="mm")
        self.content = content
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=16)
        self.set_title(_latin1(f"Welcome to {content.company}"))
        self.set_author(_latin1(content.company))

    def header(self) -> None:
        self.set_fill_color(*BRAND)
        self.rect(0, 0, self.w, 22, style="F")
        self.set_xy(20, 6)
        self.set_text_color(255, 255, 255)
        self.set_font("Helvetica", "B", 18)
        self.cell(0, 10, _latin1(self.content.company))
        self.set_xy(20, 6)
        self.set_font("Helvetica", "", 10)
        self.cell(0, 10, _latin1(self.content.date), align="R")
        self.set_y(30)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*GREY)
        note = (
            f"Transaction {self.content.transaction_code}  |  Customer service "
            f"{self.content.service_phone}  |  Keep this letter with your records."
        )
        self.cell(0, 6, _latin1(note), align="C")

    def text_line(
        self, text: str, size: float = 10.5, style: str = "", height: float = 5.5
    ) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*INK)
        self.multi_cell(0, height, _latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def item(self, name: str, text: str) -> None:
        """One feature: its name in bold, then what it does, as one paragraph."""
        self.set_font("Helvetica", "", 10.5)
        self.set_text_color(*INK)
        body = _latin1(f"**{name}**: {text}")
        self.multi_cell(0, 5.5, body, align="L", markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def keep_together(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 12.5)
        self.set_text_color(*BRAND)
        self.cell(0, 7, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.set_line_width(0.3)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        self.set_font("Helvetica", "", 10.5)
        self.set_text_color(*INK)
        self.set_draw_color(255, 255, 255)
        with self.table(
            col_widths=(55, 120),
            first_row_as_headings=False,
            line_height=6,
            cell_fill_color=SOFT,
            cell_fill_mode="ROWS",
            borders_layout="NONE",
            text_align="LEFT",
            padding=(0.5, 2),
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(_latin1(label), style=FontFace(emphasis="BOLD"))
                row.cell(_latin1(value))


def render(content: LetterContent, compress: bool = True) -> bytes:
    """Return the welcome letter as PDF bytes (uncompressed, its text can be searched)."""
    pdf = _Letter(content)
    pdf.set_compression(compress)
    pdf.add_page()
    c = content
    pdf.text_line(c.customer_name, style="B")
    pdf.text_line(c.customer_address)
    pdf.ln(5)
    pdf.text_line(f"Dear {c.customer_name},", size=11)
    pdf.ln(1.5)
    pdf.text_line(
        f"Welcome, and thank you for choosing {c.company}. Your phone is switched on and ready "
        f"to use. Your new number is {c.mid}. This letter tells you what your service includes "
        "and asks you to check the details we hold about you.",
        size=11,
        height=6,
    )
    pdf.heading("Your service")
    pdf.pairs(
        [
            ("Your number", c.mid),
            ("Rate plan", f"{c.plan_name} (plan {c.plan_code}), {c.monthly} a month"),
            ("Handset (ESN)", c.esn),
            ("Deposit", c.deposit),
            ("Activated on", c.activated_on),
        ]
    )
    pdf.heading("Included in your plan")
    for feature in c.features or (Feature("", "Calls", "Calling anywhere in the network."),):
        pdf.item(feature.name, feature.description)
    if c.suggestions:
        pdf.heading("You might also like")
        for tip in c.suggestions:
            pdf.item(
                tip.feature.name,
                f"{tip.feature.description} Part of the {tip.plan_name} plan "
                f"(plan {tip.plan_code}, {tip.monthly} a month).",
            )
        pdf.text_line("Your agent can change your plan at any time.", size=9.5)
    pdf.keep_together(40)
    pdf.heading("Please check your details")
    kind = "Business tax ID" if c.customer_kind == "business" else "Social Security number"
    pdf.pairs(
        [
            ("Name", c.customer_name),
            ("Address", c.customer_address),
            (kind, c.tax_id_masked),
        ]
    )
    pdf.ln(1.5)
    pdf.text_line(
        f"If anything here is wrong, call customer service at {c.service_phone} and quote "
        f"transaction {c.transaction_code}.",
        size=9.5,
    )
    pdf.keep_together(36)
    pdf.heading("Your sales agent")
    pdf.text_line(
        f"{c.agent_name} (agent {c.agent_code}) set up your service. For questions about your "
        "plan, your agent or customer service will be glad to help."
    )
    pdf.ln(2)
    pdf.text_line("With best wishes,", size=11)
    pdf.text_line(f"The {c.company} team", size=11, style="B")
    return bytes(pdf.output())

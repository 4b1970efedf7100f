"""Bar charts as inline SVG, drawn on the server: no script, no build step, any screen width."""

from __future__ import annotations

from markupsafe import Markup, escape

# Narrow drawings with large type, so a phone's scaled-down chart stays readable.
_FONT = 'font-family="system-ui, sans-serif" font-size="14"'


def columns(points: list[tuple[str, int]], title: str, height: int = 180) -> Markup:
    """Draw vertical bars with a label under every few (for a series over time)."""
    width, left, bottom, top = 360, 30, 22, 10
    top_value = max((v for _, v in points), default=0) or 1
    step = (width - left) / max(len(points), 1)
    label_every = max(1, len(points) // 6)
    plot = height - bottom - top
    parts = [_axis(left, top, width, plot, top_value)]
    for i, (label, value) in enumerate(points):
        bar = plot * value / top_value
        x = left + i * step
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top + plot - bar:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{bar:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f"{_FONT}>{escape(label)}</text>"
            )
    return _svg(title, width, height, parts)


def bars(items: list[tuple[str, int]], title: str) -> Markup:
    """Draw horizontal bars, each under its label, with its value (counts by category)."""
    row, width = 40, 360
    height = max(row * len(items), row) + 4
    top_value = max((v for _, v in items), default=0) or 1
    parts = []
    if not items:
        parts.append(f'<text x="4" y="22" {_FONT}>nothing to show</text>')
    for i, (label, value) in enumerate(items):
        y = 2 + i * row
        length = max((width - 60) * value / top_value, 1)
        parts.append(
            f'<text x="4" y="{y + 14}" {_FONT}>{escape(_short(label))}</text>'
            f'<rect class="bar" x="4" y="{y + 19}" width="{length:.1f}" height="14">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text x="{length + 10:.1f}" y="{y + 32}" {_FONT}>{value}</text>'
        )
    return _svg(title, width, height, parts)


def _short(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _axis(left: int, top: int, width: int, plot: float, top_value: int) -> str:
    return (
        f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}"/>'
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" {_FONT}>{top_value}</text>'
        f'<text x="{left - 4}" y="{top + plot}" text-anchor="end" {_FONT}>0</text>'
    )


def _svg(title: str, width: int, height: int, parts: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )

"""System checks: tell the operator plainly what is missing, without refusing to start."""

from typing import Any

from django.core.checks import Warning, register


def pdf_support_missing() -> str | None:
    """None if WeasyPrint can render PDFs here, otherwise why not."""
    try:
        import weasyprint  # noqa: F401
    except OSError as error:  # the Pango libraries are missing
        return str(error).splitlines()[0]
    return None


@register()
def check_pdf_support(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problem = pdf_support_missing()
    if problem is None:
        return []
    return [
        Warning(
            f"PDF export is unavailable: WeasyPrint cannot load Pango ({problem}).",
            hint="Install Pango: apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 "
            "(the Makefile does this when run as root). Everything else works without it.",
            id="sst.W001",
        )
    ]

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from attendance import services
from attendance.rollup import month_start


class Command(BaseCommand):
    help = "Recompute monthly absence for a month and evaluate the staircase (idempotent)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--month", help="YYYY-MM (default: the current month)")

    def handle(self, *args: object, **options: object) -> None:
        try:
            month = month_start(str(options["month"])) if options["month"] else timezone.localdate()
        except ValueError:
            raise CommandError("--month must be YYYY-MM") from None
        result = services.absence_month_refresh(month=month)
        self.stdout.write(
            f"{month:%Y-%m}: {result['rows']} students rolled up, {result['hits']} rule hits, "
            f"{result['new_alerts']} new alerts"
        )

from django.core.management.base import BaseCommand

from sst.services import rotate_personnummer_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored personnummer under the first key of PERSONNUMMER_KEYS and "
        "recompute lookup hashes with PERSONNUMMER_HASH_KEY. See docs/OPERATIONS.md."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = rotate_personnummer_keys()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} identity numbers."))

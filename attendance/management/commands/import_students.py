from attendance.management.importcommand import ImportCommand
from attendance.models import ImportKind


class Command(ImportCommand):
    help = "Import the students CSV file (semicolon-separated, header row). All rows or none."
    kind = ImportKind.STUDENTS

"""Static checks of Galaxy revision files, and squawk on the SQL a rehearsal executed."""

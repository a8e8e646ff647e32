"""Back-office writes: organizer and staff actions, each audited, with the leaderboards they affect rebuilt in
the same transaction."""

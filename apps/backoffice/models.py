"""The back office keeps no models of its own: the audit log it shows lives in `apps.challenges` (the lowest
layer that knows a challenge), so that the services of every layer write their own entries. This app's
migrations keep the history of the move."""

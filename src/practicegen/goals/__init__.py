"""Goals: named sets of skills that assignments aim to cover (the guide's `goal_tags`)."""

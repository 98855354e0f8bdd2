"""What every app shares and that belongs to none: the workflow's refusal, view helpers,
input hygiene. It imports Django only, never an app of this project."""

"""Hub accounts for the staff directory: first-login activation codes and hub sync."""

"""staffsync: keeps an employee directory in step with HR systems."""

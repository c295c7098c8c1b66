"""What changed between two scans of the same target: findings new, fixed, reopened and unchanged, and ports
opened and closed."""

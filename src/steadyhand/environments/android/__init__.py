"""Android devices driven over ADB (placeholder)."""

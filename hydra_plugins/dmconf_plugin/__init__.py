"""dmconf's Hydra plugin package (Hydra scans ``hydra_plugins.*``; see dmconf_plugin.py)."""

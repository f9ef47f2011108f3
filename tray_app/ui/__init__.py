"""The tray user interface: icon drawing, menu, tray ownership and notifications."""

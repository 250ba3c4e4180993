"""Pages and tables generated from Galaxy's code and the committed results."""

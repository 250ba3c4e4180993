"""Galaxy's code on disk, parsed and never imported: where it is, its revision graph, targets, workspaces."""

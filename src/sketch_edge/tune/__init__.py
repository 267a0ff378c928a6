"""The edge tuner: train, export and bench candidate models from a search space within a time budget."""

"""marsad.training."""

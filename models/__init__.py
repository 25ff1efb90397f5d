"""marsad.models."""

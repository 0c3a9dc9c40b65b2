"""datamaestro's dataset annotations (``agreement``)."""

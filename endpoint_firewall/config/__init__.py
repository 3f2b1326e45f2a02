"""The stack configuration models (``stack_config``): the layer the renderers and components take their settings from."""

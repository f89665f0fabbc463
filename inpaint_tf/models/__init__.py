"""Model builders of inpaint_tf."""

"""nn: modules, losses and optimizers built on autograd."""

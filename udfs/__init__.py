"""Excel user-defined functions (xlwings): thin wrappers over usecases/."""

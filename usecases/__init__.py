"""Use cases shared by every face (CLI, ribbon, UDFs): each is one function from arguments to a result."""

"""Sans-io translation between emu's objects and the clouds' wire formats."""

"""Reading and writing files: VTK ImageData fields and ParaView collections."""

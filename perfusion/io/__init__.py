"""VTK XML file formats, without VTK: ImageData fields, ParaView collections, PolyData lines."""

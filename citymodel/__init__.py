"""Qt-free, network-free city model: towns, coordinates, buildings (CIM). Importable by every layer."""

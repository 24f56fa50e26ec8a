"""Store backends; each is imported only when its selector scheme is used."""

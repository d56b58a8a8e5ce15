''
  never closed


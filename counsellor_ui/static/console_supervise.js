/* console_supervise: filled in by its feature. */

/* console_admin: filled in by its feature. */

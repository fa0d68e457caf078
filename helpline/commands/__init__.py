"""What each `helpline` command does, one module per group of commands; `helpline.cli` parses the
command line and calls them."""

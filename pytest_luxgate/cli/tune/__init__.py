"""cli/tune"""

"""Tests of bot.wechat."""

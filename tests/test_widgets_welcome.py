"""The chapter 0 widget: its line follows its slider."""

from lenet_course.widgets import WidgetCheck


def test_echo_follows_the_slider():
    check = WidgetCheck()
    assert check.echo.value == "The slider reads 3; 3 x 3 = 9."
    check.slider.value = 7
    assert check.echo.value == "The slider reads 7; 7 x 7 = 49."
    assert repr(check) == "WidgetCheck(slider=7)"
    assert "lenet-welcome-slider" in check.slider._dom_classes
    assert "lenet-welcome-echo" in check.echo._dom_classes

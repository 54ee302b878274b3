from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from studyhall.auth.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from studyhall.forms import Form
from studyhall.i18n import lazy_gettext as _l


class LoginForm(Form):
    account = StringField(_l("Account"), validators=[DataRequired(), Length(max=64)],
                          filters=[lambda v: v.strip() if v else v])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH,
                                           message=_l("Use 8 to 200 characters."))],
        description=_l("At least 8 characters, not your account name or phone number, and "
                       "not a common password such as 12345678 or woaini1314."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
    )

    def __init__(self, person, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person

    def validate_current_password(self, field):
        if not self.person.check_password(field.data):
            raise ValidationError(_l("The current password is not correct."))

    def validate_new_password(self, field):
        if field.errors:  # too short or too long: said once is enough
            return
        if field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password different from the current one."))
        problem = password_problem(field.data, account=self.person.account,
                                   phone=self.person.phone or "")
        if problem:
            raise ValidationError(problem)

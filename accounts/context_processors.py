from accounts import permissions


def role(request):
    user_role = permissions.role(request.user)
    return {"user_role": user_role, "user_role_label": permissions.ROLE_LABELS[user_role]}

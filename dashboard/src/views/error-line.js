// The work area's error line, shared by the views: a refusal (403) reads as one.
import { ApiError } from "../api.js";
import { t } from "../i18n.js";

export function errorLine(element) {
  return {
    show(error) {
      element.hidden = false;
      element.textContent =
        error instanceof ApiError && error.status === 403
          ? t("error.not_allowed", { message: error.message })
          : error.message;
    },
    clear() {
      element.hidden = true;
      element.textContent = "";
    },
  };
}

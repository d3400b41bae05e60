/**
 * Dialog ids in one place, because dialogs hand over to each other (the menu starts a module,
 * a module's end returns to the menu) and a mistyped id would only fail at run time.
 */
export const ROOT_DIALOG = 'rootDialog';
export const CONSENT_DIALOG = 'consentDialog';
export const MENU_DIALOG = 'menuDialog';
export const SCRIPTED_MODULE_DIALOG = 'scriptedModuleDialog';
export const HANDOVER_DIALOG = 'handoverDialog';
export const DELETE_DATA_DIALOG = 'deleteDataDialog';
export const CRISIS_DIALOG = 'crisisDialog';
export const CHILD_SAFETY_DIALOG = 'childSafetyDialog';
export const FOLLOW_UP_DIALOG = 'followUpDialog';
export const GROUNDING_DIALOG = 'groundingDialog';

// Editing the itinerary: add, change, move and remove items; userErrors are the expected
// failures (nothing was written), switched on by errorCode (the ErrorCode enum).
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { graphql } from "./gql";
import type {
  ItemKind,
  LocationKind,
  UpdateItineraryItemInput,
  UpdateItemMutation,
} from "./gql/graphql";

graphql(`
  fragment EditableItem on ItineraryItem {
    id
    nodeId
    title
    kind
    kindRaw
    notes
    startTime
    endTime
    cost { amount currency }
    location { id ...LocationCard }
    updatedAt
  }
`);

export const AddItem = graphql(`
  mutation AddItem($input: AddItineraryItemInput!) {
    addItineraryItem(input: $input) {
      item { ...EditableItem }
      userErrors { field message errorCode }
    }
  }
`);

export const UpdateItem = graphql(`
  mutation UpdateItem($input: UpdateItineraryItemInput!) {
    updateItineraryItem(input: $input) {
      item { ...EditableItem }
      userErrors { field message errorCode }
    }
  }
`);

export const MoveItem = graphql(`
  mutation MoveItem($input: MoveItineraryItemInput!) {
    moveItineraryItem(input: $input) {
      userErrors { field message errorCode }
    }
  }
`);

export const RemoveItem = graphql(`
  mutation RemoveItem($input: RemoveItineraryItemInput!) {
    removeItineraryItem(input: $input) {
      userErrors { field message errorCode }
    }
  }
`);

/** What a form sends to reschedule an item at a place: a local time stays local. */
export function reschedule(
  id: string,
  startLocal: string, // from <input type="datetime-local">: no offset
  place: { id: string; kind: LocationKind } | null,
  kind: ItemKind,
): UpdateItineraryItemInput {
  const input: UpdateItineraryItemInput = { id, startTime: startLocal, kind };
  if (place) {
    input.locationId = place.id;
    input.locationType = place.kind;
  }
  return input;
}

/** A message per field for the form, from the payload's userErrors. */
export function formErrors(result: UpdateItemMutation): Map<string, string> {
  const errors = new Map<string, string>();
  for (const error of result.updateItineraryItem.userErrors) {
    const field = error.field ?? "form";
    switch (error.errorCode) {
      case "FORBIDDEN":
        errors.set("form", "This trip is read-only for you.");
        break;
      case "NOT_FOUND":
        errors.set("form", "The item was deleted meanwhile.");
        break;
      default:
        errors.set(field, error.message);
    }
  }
  return errors;
}

/** The documents are typed: variables and result types travel with them. */
export const typedUpdate: TypedDocumentNode<
  UpdateItemMutation,
  { input: UpdateItineraryItemInput }
> = UpdateItem;
